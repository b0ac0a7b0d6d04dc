/** Shell: permission-gated sidebar, top bar with mode, last refresh and the signed-in user. */
import { useQueryClient } from "@tanstack/react-query";
import { NavLink, Outlet, useNavigate } from "react-router-dom";
import { api } from "../api/client";
import { NAV } from "../app/nav";
import { useLastRefresh } from "../app/refresh";
import { useRuntime, useSession } from "../app/session";
import { ALERT_FEED, APPROVAL_FEED, useLiveFeed } from "../hooks/useLiveFeed";

function LastRefresh() {
  const last = useLastRefresh();
  return (
    <span className="text-xs text-slate-400" data-testid="last-refresh">
      Last refresh: {last ? new Date(last).toLocaleTimeString() : "—"}
    </span>
  );
}

export function Layout() {
  const { me, can } = useSession();
  const mode = useRuntime();
  const client = useQueryClient();
  const navigate = useNavigate();
  useLiveFeed(ALERT_FEED, can("ws:alerts"));
  useLiveFeed(APPROVAL_FEED, can("approvals:read"));
  const signOut = async () => {
    await api.POST("/auth/logout").catch(() => undefined);
    client.clear();
    // Single sign-on: end the identity provider's session as well, or the next click signs straight back in.
    if (me.auth_provider === "oidc") window.location.assign("/api/v1/auth/oidc/logout");
    else navigate("/login");
  };
  return (
    <div className="flex min-h-screen">
      <a href="#content" className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-sky-700 focus:px-3 focus:py-1" data-testid="skip-link">
        Skip to content
      </a>
      <nav aria-label="Main" data-testid="sidebar" className="w-52 shrink-0 border-r border-slate-800 bg-slate-900/80 px-2 py-4">
        <div className="mb-4 px-2 text-lg font-semibold text-sky-300">AuroraSOC</div>
        {NAV.map((group) => {
          const items = group.items.filter((i) => i.permission === null || can(i.permission));
          if (items.length === 0) return null;
          return (
            <div key={group.title} className="mb-3">
              <div className="px-2 pb-1 text-[11px] tracking-wider text-slate-500 uppercase">{group.title}</div>
              <ul>
                {items.map((item) => (
                  <li key={item.path}>
                    <NavLink
                      to={item.path}
                      end={item.path === "/"}
                      className={({ isActive }) =>
                        `block rounded px-2 py-1 text-sm ${isActive ? "bg-slate-800 text-white" : "text-slate-300 hover:bg-slate-800/60"}`
                      }
                    >
                      {item.label}
                    </NavLink>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
      </nav>
      <div className="min-w-0 flex-1">
        <header className="flex items-center gap-4 border-b border-slate-800 px-5 py-2">
          <span className="rounded bg-slate-800 px-2 py-0.5 text-xs" data-testid="mode-chip">
            mode: {mode.mode}
          </span>
          {!mode.is_database_available && <span className="text-xs text-rose-300">database unreachable</span>}
          <div className="ml-auto flex items-center gap-4">
            <LastRefresh />
            <NavLink to="/profile" className="text-sm" data-testid="user-menu">
              {me.username} ({me.role})
            </NavLink>
            <button className="btn" onClick={signOut}>
              Sign out
            </button>
          </div>
        </header>
        <main id="content" tabIndex={-1} className="outline-none">
          <Outlet />
        </main>
      </div>
    </div>
  );
}
