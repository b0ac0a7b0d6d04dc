/** Register a device (POST /cps/devices, `cps:write`, real mode): the fields of spec §18. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import { api } from "../../api/client";
import type { components } from "../../api/schema-input";
import { useToast } from "../../components/Toasts";
import { Field } from "../../components/ui";
import { FAMILIES, STACKS } from "./types";

type DeviceCreate = components["schemas"]["DeviceCreate"];

const BLANK = {
  device_id: "", device_type: "", name: "", firmware_stack: STACKS[0] as string, board_family: "",
  zone_id: "", location: "", firmware_version: "", public_key_pem: "",
};

/** Empty optional fields are left out rather than sent as "". */
function body(form: typeof BLANK): DeviceCreate {
  // The form marks the schema's required fields `required`; firmware_stack and board_family come from schema lists.
  return Object.fromEntries(Object.entries(form).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v !== "")) as DeviceCreate;
}

export function RegisterDevice({ onClose }: { onClose: () => void }) {
  const client = useQueryClient();
  const toast = useToast();
  const navigate = useNavigate();
  const [form, setForm] = useState(BLANK);
  const register = useMutation({
    mutationFn: () => api.POST("/cps/devices", { body: body(form) }),
    onSuccess: (device) => {
      toast(`Registered ${device.device_id}`, "success");
      void client.invalidateQueries({ queryKey: ["cps"] });
      navigate(`/cps/devices/${encodeURIComponent(device.device_id)}`);
    },
    onError: (e) => toast((e as Error).message, "error"),
  });
  const text = (key: keyof typeof BLANK, label: string, extra: { required?: boolean; pattern?: string; cls?: string } = {}) => (
    <Field label={label}>
      <input className={`input ${extra.cls ?? "w-48"}`} value={form[key]} required={extra.required} pattern={extra.pattern}
        onChange={(e) => setForm({ ...form, [key]: e.target.value })} />
    </Field>
  );
  const submit = (e: FormEvent) => { e.preventDefault(); register.mutate(); };
  return (
    <form className="card mb-4 flex flex-wrap items-end gap-3" onSubmit={submit} aria-label="Register device" data-testid="register-form">
      {text("device_id", "Device ID", { required: true, pattern: "[A-Za-z0-9_\\-]{1,64}", cls: "w-48 font-mono" })}
      {text("name", "Name", { required: true })}
      {text("device_type", "Device type", { required: true })}
      <Field label="Firmware stack">
        <select className="input" value={form.firmware_stack} onChange={(e) => setForm({ ...form, firmware_stack: e.target.value })}>
          {STACKS.map((s) => <option key={s}>{s}</option>)}
        </select>
      </Field>
      <Field label="Board family">
        <select className="input" value={form.board_family} onChange={(e) => setForm({ ...form, board_family: e.target.value })}>
          <option value="">—</option>{FAMILIES.map((f) => <option key={f}>{f}</option>)}
        </select>
      </Field>
      {text("zone_id", "Zone")}
      {text("location", "Location")}
      {text("firmware_version", "Firmware version", { cls: "w-32" })}
      <Field label="Public key (PEM, P-256)">
        <textarea className="input h-9 w-72 font-mono text-xs" value={form.public_key_pem}
          onChange={(e) => setForm({ ...form, public_key_pem: e.target.value })} />
      </Field>
      <button className="btn-primary" disabled={register.isPending} data-testid="register-submit">Register</button>
      <button className="btn" type="button" onClick={onClose}>Cancel</button>
    </form>
  );
}
