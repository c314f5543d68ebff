// CrossGuard policy pack: `pulumi preview --policy-pack policy` refuses a change that breaks the
// stack's security defaults (see docs/security.md). The policies live in policies.ts.
import { PolicyPack } from "@pulumi/policy";
import { securityPolicies } from "./policies";

new PolicyPack("cosmos-vm-identity-security", { policies: securityPolicies });
