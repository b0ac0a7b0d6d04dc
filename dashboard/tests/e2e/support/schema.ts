/** The API's shapes for the mocked specs: fixtures are checked against the schema so mocks cannot drift. */
import type { components } from "../../../src/api/schema";

export type Schemas = components["schemas"];
