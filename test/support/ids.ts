// The subscription and tenant every fake answers for; here, not in harness.ts, so that a test that
// only needs a fake Azure does not load Pulumi's runtime with the harness.
export const SUBSCRIPTION_ID = "00000000-1111-2222-3333-444444444444";
export const TENANT_ID = "99999999-8888-7777-6666-555555555555";
