// The run timeline: one bar per task and attempt on a shared time axis. Waiting for a person is drawn
// hatched so that the time people took stands apart from the time machines took.
import { formatDuration, formatDurationLong, formatMicros, humanize } from "../format.ts";
import type { Timeline } from "../timeline.ts";

const KIND_LABEL = { run: "running", human: "waiting for a person", wait: "timed wait" } as const;

export function TimelineView({
  timeline,
  selected,
  onSelect,
}: {
  timeline: Timeline;
  selected?: string | undefined;
  onSelect?: (nodeId: string) => void;
}) {
  if (timeline.rows.length === 0) return <p class="muted">No task has started yet.</p>;
  return (
    <figure class="timeline" aria-label="Timeline of the run's tasks">
      <div class="tl-head">
        <div class="tl-head-label muted" title={formatMicros(timeline.startUs)}>
          from start
        </div>
        <div class="tl-axis" aria-hidden="true">
          {timeline.ticks.map((t) => (
            <span key={t.at} class="tl-tick" style={{ left: `${t.at * 100}%` }}>
              {t.label}
            </span>
          ))}
        </div>
      </div>
      <div class="tl-body">
        <div class="tl-gridlines" aria-hidden="true">
          {timeline.ticks.map((t) => (
            <span key={t.at} class="tl-gridline" style={{ left: `${t.at * 100}%` }} />
          ))}
        </div>
        <ol class="tl-rows">
          {timeline.rows.map((row) => {
            const label = row.retried ? `${row.nodeId} #${row.attempt}` : row.nodeId;
            const isSelected = selected === row.nodeId;
            return (
              <li
                key={row.key}
                class={`tl-row${isSelected ? " is-selected" : ""}`}
                data-node={row.nodeId}
                data-attempt={row.attempt}
              >
                <div class="tl-label">
                  {onSelect ? (
                    <button
                      type="button"
                      class="link-button"
                      onClick={() => onSelect(row.nodeId)}
                      aria-pressed={isSelected}
                      title={`${row.nodeId}${row.retried ? `, attempt ${row.attempt}` : ""}: ${humanize(row.status)}`}
                    >
                      {label}
                    </button>
                  ) : (
                    <span>{label}</span>
                  )}
                  <span class="tl-duration">{formatDuration(row.durationUs)}</span>
                </div>
                <div class="tl-track">
                  {row.segments.length === 0 ? (
                    <span class="tl-none">{humanize(row.status)}</span>
                  ) : (
                    row.segments.map((s) => {
                      const text = `${row.nodeId}${row.retried ? ` attempt ${row.attempt}` : ""}: ${KIND_LABEL[s.kind]}, ${formatDurationLong(s.endUs - s.startUs)}${s.open ? " so far" : ""}, ${humanize(row.status)}`;
                      return (
                        <span
                          key={`${s.kind}-${s.startUs}`}
                          class={`tl-seg tl-${s.kind} status-${row.status}${s.open ? " is-open" : ""}`}
                          data-kind={s.kind}
                          style={{ left: `${s.start * 100}%`, width: `${s.width * 100}%` }}
                          title={text}
                          role="img"
                          aria-label={text}
                        />
                      );
                    })
                  )}
                </div>
              </li>
            );
          })}
        </ol>
      </div>
      <figcaption class="tl-legend">
        <span>
          <span class="tl-key tl-run status-none" aria-hidden="true" /> running
        </span>
        <span>
          <span class="tl-key tl-human status-none" aria-hidden="true" /> waiting for a person
        </span>
        <span>
          <span class="tl-key tl-wait status-none" aria-hidden="true" /> timed wait
        </span>
        <span>colour shows the status</span>
        <span class="muted">Total {formatDuration(timeline.endUs - timeline.startUs)}</span>
      </figcaption>
    </figure>
  );
}
