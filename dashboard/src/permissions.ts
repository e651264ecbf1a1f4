// What the signed-in role may do. Buttons for actions a role may not take are hidden rather than
// disabled, so a viewer never sees a cancel button. The server enforces the same rules; this only
// keeps the page honest about them.
import type { Role } from "./types.ts";

export type Action =
  | "define"
  | "trigger"
  | "cancel"
  | "rerun"
  | "decide"
  | "input"
  | "start-job"
  | "schedule"
  | "webhook"
  | "subscribe"
  | "keys";

// As the server authorizes: admin may do everything, operator and approver are siblings (neither may do
// the other's actions), viewer only reads. Input steps may be answered by operators and approvers alike.
const ALLOWED: Record<Action, readonly Role[]> = {
  define: ["operator"],
  trigger: ["operator"],
  cancel: ["operator"],
  rerun: ["operator"],
  "start-job": ["operator"],
  decide: ["approver"],
  input: ["operator", "approver"],
  schedule: ["operator"],
  webhook: ["operator"],
  // Subscriptions (and redelivery) and keys are the admin's alone.
  subscribe: [],
  keys: [],
};

/** Whether `role` may take `action`; an approval node may narrow the roles allowed to decide it. */
export function can(role: Role | undefined, action: Action, allowedRoles?: readonly Role[]): boolean {
  if (!role) return false;
  if (role === "admin") return true;
  if (!ALLOWED[action].includes(role)) return false;
  if ((action === "decide" || action === "input") && allowedRoles && allowedRoles.length > 0) {
    return allowedRoles.includes(role);
  }
  return true;
}

/**
 * Why this person may not decide an approval they would otherwise be allowed to: the server refuses
 * a decision from whoever started the run unless the node sets allowSelfApproval.
 */
export function selfApprovalBlocked(
  userId: string,
  startedBy: string | null | undefined,
  allowSelf?: boolean,
): boolean {
  return !allowSelf && Boolean(startedBy) && userId === startedBy;
}
