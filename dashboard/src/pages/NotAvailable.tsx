/** Pages whose backend does not exist yet: an honest panel, no sample data, no API calls. */
import { Page } from "../components/Runtime";

interface Props {
  title: string;
  feature: string;
  endpoints: string[];
}

export function NotAvailablePage({ title, feature, endpoints }: Props) {
  return (
    <Page title={title}>
      <div data-testid="not-available" className="card max-w-2xl">
        <h2 className="text-lg font-medium text-slate-100">Not available yet</h2>
        <p className="mt-2 text-slate-300">
          {feature} is not part of this AuroraSOC build yet, so this page has nothing real to show. The console will list
          live data here once the server provides it.
        </p>
        <p className="mt-3 text-sm text-slate-400">
          Waiting for: {endpoints.map((e) => <code key={e} className="mr-2 text-sky-300">{e}</code>)}
        </p>
      </div>
    </Page>
  );
}
