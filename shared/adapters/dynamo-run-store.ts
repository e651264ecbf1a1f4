// The run store moved to shared/adapters/dynamo/; this path keeps its importers working.
export { DynamoRunStore } from "./dynamo/run-store.ts";
