// Name-based GUIDs, as Bicep's guid() makes them: the same inputs always give the same GUID, so a
// resource whose name must be a GUID keeps its name across runs and changes it when what it
// grants changes. Pure.
import { createHash } from "crypto";

/** A version-5-style GUID from the SHA-256 of the parts. */
export function nameBasedGuid(...parts: string[]): string {
    const bytes = createHash("sha256").update(parts.join("\n")).digest().subarray(0, 16);
    bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5 (name-based)
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    const hex = bytes.toString("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
