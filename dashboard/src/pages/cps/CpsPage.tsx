/** CPS/IoT (/cps): fleet KPIs plus the Devices, Zones & conduits and Badges tabs, one read set per tab. */
import { BadgesTab } from "./BadgesTab";
import { useCpsTab } from "./CpsShell";
import { DevicesTab } from "./DevicesTab";
import { ZonesTab } from "./ZonesTab";

export function CpsPage() {
  const tab = useCpsTab();
  if (tab === "zones") return <ZonesTab />;
  if (tab === "badges") return <BadgesTab />;
  return <DevicesTab />;
}
