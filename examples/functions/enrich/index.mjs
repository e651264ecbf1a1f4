// A Lambda handler for the lambda-enrich example. Locally, register it in the data dir:
//   mkdir -p .stepwise/functions && cp -r examples/functions/enrich .stepwise/functions/
// In AWS, deploy it as a function named `enrich` (or change `function` in the workflow), and grant the stack
// access to it (see "Container and Lambda nodes" in the README).
export const handler = async (event, context) => {
  console.log(`enriching ${event.customer} for run ${event.runId} in ${context.functionName}`);
  if (!event.customer) {
    const err = new Error("no customer given");
    err.name = "MissingCustomer";
    throw err;
  }
  const tier = event.customer.length % 2 === 0 ? "gold" : "silver";
  return { tier, discount: tier === "gold" ? 0.1 : 0.05, enrichedAt: new Date().toISOString() };
};
