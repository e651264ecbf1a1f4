// Event subscriptions of the org: where run and job-run events are sent (signed the Standard Webhooks way),
// a form for a new one (a generated secret is shown once), and delete.
import { useState } from "preact/hooks";
import { PagedTable } from "../components/data-table.tsx";
import { Field, FormActions, useFieldForm } from "../components/field.tsx";
import { SecretOnce } from "../components/secret-once.tsx";
import { ActionError, Card, ConfirmDialog, Empty, Time, usePager } from "../components/ui.tsx";
import { useSession } from "../context.ts";
import { useAction, useNow, usePageTitle, usePolled } from "../hooks.ts";
import { can } from "../permissions.ts";
import { formatRoute } from "../router.ts";
import { JOB_RUN_STATUSES, RUN_STATUSES } from "../types.ts";
import type { SubscriptionSaved } from "../types-extra.ts";

const EVENTS = ["*", ...RUN_STATUSES.map((s) => `run.${s}`), ...JOB_RUN_STATUSES.map((s) => `job_run.${s}`)];

export function SubscriptionsPage() {
  const { api, who } = useSession();
  usePageTitle("Subscriptions");
  const pager = usePager("subscriptions");
  const list = usePolled(() => api.listSubscriptions({ cursor: pager.cursor, limit: 50 }), [pager.cursor]);
  const now = useNow(false);
  const action = useAction();
  const mayEdit = can(who.role, "subscribe");
  const [saved, setSaved] = useState<SubscriptionSaved | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  return (
    <>
      <div class="page-head">
        <div>
          <h1>Subscriptions</h1>
          <p class="lead">
            Run and job-run events are POSTed to each subscription's URL, signed to the Standard Webhooks specification,
            and retried with backoff until the receiver answers 2xx.
          </p>
        </div>
      </div>
      {mayEdit ? (
        <Card titleId="new-sub-title" title="New subscription" class="narrow">
          {saved?.secret ? (
            <SecretOnce label={`Signing secret of ${saved.name}:`} value={saved.secret} onDone={() => setSaved(null)} />
          ) : (
            <SubscriptionForm
              onSaved={(s) => {
                setSaved(s);
                list.reload();
              }}
            />
          )}
        </Card>
      ) : null}
      <Card titleId="subs-title" title="Subscriptions">
        <ActionError error={action.failure} />
        <PagedTable
          list={list}
          pager={pager}
          what="subscriptions"
          empty={<Empty title="No subscriptions yet." />}
          columns={["Name", "URL", "Events", "Updated", { name: "Actions", hidden: true }]}
          row={(s) => (
            <tr key={s.name} data-subscription={s.name}>
              <td data-label="Name">
                <a href={formatRoute({ page: "subscription", name: s.name })}>{s.name}</a>
              </td>
              <td data-label="URL" class="mono small wrap">
                {s.url}
              </td>
              <td data-label="Events" class="mono small">
                {s.events.join(", ")}
              </td>
              <td data-label="Updated">
                <Time iso={s.updatedAt} now={now} /> <span class="muted">by {s.updatedBy}</span>
              </td>
              <td data-label="">
                <span class="actions">
                  <a class="btn btn-secondary btn-sm" href={formatRoute({ page: "subscription", name: s.name })}>
                    Deliveries
                  </a>
                  {mayEdit ? (
                    <button
                      type="button"
                      class="btn btn-danger-outline btn-sm"
                      aria-label={`Delete ${s.name}`}
                      onClick={() => setDeleting(s.name)}
                    >
                      Delete
                    </button>
                  ) : null}
                </span>
              </td>
            </tr>
          )}
        />
      </Card>
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete subscription ${deleting ?? ""}?`}
        confirmLabel="Delete subscription"
        danger
        busy={action.busy === "delete"}
        onCancel={() => setDeleting(null)}
        onConfirm={() => {
          const name = deleting;
          if (!name) return;
          void action
            .run("delete", () => api.deleteSubscription(name))
            .then(() => {
              setDeleting(null);
              list.reload();
            });
        }}
      >
        <p>No more events are sent to it.</p>
      </ConfirmDialog>
    </>
  );
}

function SubscriptionForm({ onSaved }: { onSaved: (s: SubscriptionSaved) => void }) {
  const { api } = useSession();
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<string[]>(["run.failed"]);
  const [secret, setSecret] = useState("");
  const { errors, failure, busy, submit } = useFieldForm({
    names: ["name", "url", "events", "secret"],
    prefix: "sub-",
    coerce: () => {
      const errs: Record<string, string> = {};
      if (!name.trim()) errs.name = "Give the subscription a name.";
      if (!url.trim()) errs.url = "Where should events be sent?";
      if (events.length === 0) errs.events = "Choose at least one event.";
      return { values: {}, errors: errs };
    },
    send: async () => {
      const body = { url: url.trim(), events, ...(secret ? { secret } : {}) };
      onSaved(await api.putSubscription(name.trim(), body));
      setName("");
      setUrl("");
      setSecret("");
    },
  });
  const toggle = (e: string, on: boolean) => setEvents((cur) => (on ? [...cur, e] : cur.filter((x) => x !== e)));
  return (
    <form class="form" onSubmit={submit} aria-label="New subscription">
      <Field id="sub-name" label="Name" required error={errors.name}>
        <input id="sub-name" type="text" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </Field>
      <Field id="sub-url" label="URL" required hint="An https URL that accepts POST" error={errors.url}>
        <input id="sub-url" type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
      </Field>
      <fieldset class="field" aria-describedby={errors.events ? "sub-events-error" : undefined}>
        <legend class="field-label">
          <span class="field-name">Events</span>
          <span class="field-required">required</span>
        </legend>
        <div class="checks">
          {EVENTS.map((e) => (
            <label key={e} class="checkbox">
              <input
                type="checkbox"
                checked={events.includes(e)}
                onChange={(ev) => toggle(e, ev.currentTarget.checked)}
              />
              <span class="mono small">{e}</span>
            </label>
          ))}
        </div>
        {errors.events ? (
          <p id="sub-events-error" class="field-error" role="alert">
            {errors.events}
          </p>
        ) : null}
      </fieldset>
      <Field
        id="sub-secret"
        label="Signing secret"
        hint="whsec_… (at least 16 characters). Leave empty and one is generated and shown once."
        error={errors.secret}
      >
        <input
          id="sub-secret"
          type="password"
          autoComplete="new-password"
          value={secret}
          onInput={(e) => setSecret(e.currentTarget.value)}
        />
      </Field>
      <FormActions failure={failure} busy={busy} label="Save subscription" busyLabel="Saving…" />
    </form>
  );
}
