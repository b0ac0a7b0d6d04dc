/** Realistic API bodies shared by the mocked specs. */
const now = new Date().toISOString();

export const ALERT = {
  id: "5b0a8c1e-7c2f-4d7a-9a53-0c1c7f0f6a11",
  title: "Member Added to Local Administrators",
  description: "A user was added to the local Administrators group.",
  severity: "high",
  status: "new",
  source: "windows",
  affected_assets: ["host:WIN-DC01"],
  iocs: ["S-1-5-20"],
  mitre_techniques: ["T1098"],
  raw_log: '{"EventID": 4732, "TargetUserName": "Administrators"}',
  case_id: null,
  occurrence_count: 2,
  first_seen_at: now,
  last_seen_at: now,
  metadata: {},
  created_at: now,
  updated_at: now,
};

export const ALERT_DETAIL = {
  ...ALERT,
  typed_iocs: [],
  techniques: [{ id: "T1098", name: "Account Manipulation", tactics: ["persistence"], url: null }],
  case: null,
  investigations: [],
  data_source: "database",
};

export const CASE = {
  id: "0f5e3c9a-1111-4b2b-8c3d-2e2f2a2b2c2d",
  title: "Privilege escalation on WIN-DC01",
  description: null,
  severity: "high",
  status: "in_progress",
  assigned_to: null,
  source: "alert_promotion",
  created_at: now,
  updated_at: now,
};

export const CASE_DETAIL = {
  ...CASE,
  timeline: [
    { id: "a1", case_id: CASE.id, action: "created", actor: "admin", details: "Promoted from alert", data: {}, timestamp: now },
  ],
  alerts: [{ id: ALERT.id, title: ALERT.title, severity: "high", status: "escalated" }],
  data_source: "database",
};
