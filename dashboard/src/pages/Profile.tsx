/** The signed-in principal: username, role, permissions, provider; local password change. */
import { useState, type FormEvent } from "react";
import { api } from "../api/client";
import { useSession } from "../app/session";
import { Page } from "../components/Runtime";
import { useToast } from "../components/Toasts";

export function ProfilePage() {
  const { me } = useSession();
  const toast = useToast();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const change = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await api.PUT("/users/me/password", { body: { current_password: current, new_password: next } });
      toast("Password changed", "success");
      setCurrent("");
      setNext("");
    } catch (e) {
      toast((e as Error).message, "error");
    }
  };
  return (
    <Page title="Profile">
      <div className="grid gap-4 md:grid-cols-2">
        <dl className="card grid grid-cols-[8rem_1fr] gap-2 text-sm">
          <dt className="text-slate-400">Username</dt><dd>{me.username}</dd>
          <dt className="text-slate-400">Role</dt><dd>{me.role}</dd>
          <dt className="text-slate-400">Provider</dt><dd>{me.auth_provider}</dd>
          <dt className="text-slate-400">Permissions</dt>
          <dd className="flex flex-wrap gap-1">
            {me.permissions.map((p) => <code key={p} className="rounded bg-slate-800 px-1 text-xs">{p}</code>)}
          </dd>
        </dl>
        {me.auth_provider === "local" && (
          <form className="card flex flex-col gap-2" onSubmit={change}>
            <h2 className="font-medium">Change password</h2>
            <input className="input" type="password" placeholder="Current password" value={current}
              onChange={(e) => setCurrent(e.target.value)} autoComplete="current-password" required />
            <input className="input" type="password" placeholder="New password" value={next}
              onChange={(e) => setNext(e.target.value)} autoComplete="new-password" required />
            <button className="btn-primary self-start">Change password</button>
          </form>
        )}
      </div>
    </Page>
  );
}
