import type { LocalAreaWiring } from "./area-wiring.ts";

/** Embedded-mode wiring of the jobs area (its services, background work and local state machines). */
export const wire: LocalAreaWiring = async () => ({});
