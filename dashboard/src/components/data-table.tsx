// Table scaffolding shared by the pages: header rows built from column names, the responsive card table,
// the compact table inside a card, and a cursor-paged table with its loading, error and empty states.
import type { ComponentChildren } from "preact";
import type { Loaded } from "../hooks.ts";
import type { Page } from "../types.ts";
import { NotLoaded, Pager, type PagerState } from "./ui.tsx";

/** A column title; `num` right-aligns it like its numbers, `hidden` keeps it for screen readers only. */
export type Column = string | { name: string; num?: boolean; hidden?: boolean };

function TableHead({ columns }: { columns: Column[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) =>
          typeof c === "string" ? (
            <th key={c} scope="col">
              {c}
            </th>
          ) : (
            <th key={c.name} scope="col" class={c.num ? "num" : undefined}>
              {c.hidden ? <span class="sr-only">{c.name}</span> : c.name}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}

/** A table whose rows become labelled cards on a phone, in a wrapper that scrolls sideways when wide. */
export function CardTable({
  columns,
  class: extraClass,
  testId,
  children,
}: {
  columns: Column[];
  class?: string;
  testId?: string;
  children: ComponentChildren;
}) {
  return (
    <div class="table-wrap">
      <table class={extraClass ? `table table-cards ${extraClass}` : "table table-cards"} data-testid={testId}>
        <TableHead columns={columns} />
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A small table inside a card, with a header row. */
export function CompactTable({ columns, children }: { columns: Column[]; children: ComponentChildren }) {
  return (
    <table class="table compact">
      <TableHead columns={columns} />
      <tbody>{children}</tbody>
    </table>
  );
}

/** A cursor-paged card table: loading and error states, `empty` when there is nothing, the rows, then the pager. */
export function PagedTable<T>({
  list,
  pager,
  what,
  empty,
  columns,
  row,
}: {
  list: Loaded<Page<T>>;
  pager: PagerState;
  what: string;
  empty: ComponentChildren;
  columns: Column[];
  row: (item: T) => ComponentChildren;
}) {
  return (
    <>
      {list.data === undefined ? (
        <NotLoaded loaded={list} what={what} />
      ) : list.data.items.length === 0 ? (
        empty
      ) : (
        <CardTable columns={columns}>{list.data.items.map(row)}</CardTable>
      )}
      <Pager pager={pager} list={list.data} />
    </>
  );
}
