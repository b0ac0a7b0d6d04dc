/** Edit a device's registry fields (PATCH /cps/devices/{id}, `cps:write`, real mode); only changed fields are sent. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api } from "../../api/client";
import { useToast } from "../../components/Toasts";
import { Field } from "../../components/ui";
import type { DeviceDetail } from "./types";

const FIELDS = [["name", "Name"], ["location", "Location"], ["zone_id", "Zone"], ["firmware_version", "Firmware version"]] as const;
type Key = (typeof FIELDS)[number][0];

/** An emptied optional field clears it (null); the name is required by the API and never cleared. */
function changes(device: DeviceDetail, form: Record<Key, string>): Partial<Record<Key, string | null>> {
  const out: Partial<Record<Key, string | null>> = {};
  for (const [key] of FIELDS) {
    const value = form[key].trim();
    if (value === (device[key] ?? "")) continue;
    if (key === "name" && !value) continue;
    out[key] = value || null;
  }
  return out;
}

export function DeviceEdit({ device, onClose }: { device: DeviceDetail; onClose: () => void }) {
  const client = useQueryClient();
  const toast = useToast();
  const [form, setForm] = useState<Record<Key, string>>({
    name: device.name, location: device.location ?? "", zone_id: device.zone_id ?? "", firmware_version: device.firmware_version ?? "",
  });
  const save = useMutation({
    mutationFn: () => api.PATCH("/cps/devices/{device_id}", { params: { path: { device_id: device.device_id } }, body: changes(device, form) }),
    onSuccess: () => { toast("Device updated", "success"); void client.invalidateQueries({ queryKey: ["cps"] }); onClose(); },
    onError: (e) => toast((e as Error).message, "error"),
  });
  const submit = (e: FormEvent) => { e.preventDefault(); save.mutate(); };
  return (
    <form className="card mb-4 flex flex-wrap items-end gap-3" onSubmit={submit} aria-label="Edit device" data-testid="edit-form">
      {FIELDS.map(([key, label]) => (
        <Field key={key} label={label}>
          <input className="input w-48" value={form[key]} required={key === "name"} onChange={(e) => setForm({ ...form, [key]: e.target.value })} />
        </Field>
      ))}
      <button className="btn-primary" disabled={save.isPending} data-testid="edit-save">Save</button>
      <button className="btn" type="button" onClick={onClose}>Cancel</button>
    </form>
  );
}
