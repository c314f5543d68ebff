// IPv4 addresses and CIDR ranges, as NSG rules and Cosmos DB IP rules take them. Pure.

export type Ipv4RangeResult = { ok: true; cidr: string; privateRange?: string } | { ok: false; error: string };

/** Ranges that never cross the Internet: Cosmos DB's IP filter refuses them (they cannot be enforced). */
const PRIVATE_RANGES: [string, number, number][] = [
    ["10.0.0.0/8", ip(10, 0, 0, 0), 8],
    ["100.64.0.0/10", ip(100, 64, 0, 0), 10],
    ["172.16.0.0/12", ip(172, 16, 0, 0), 12],
    ["192.168.0.0/16", ip(192, 168, 0, 0), 16],
];

function ip(a: number, b: number, c: number, d: number): number {
    return ((a * 256 + b) * 256 + c) * 256 + d;
}

/** The widest range we accept: anything wider is most of the Internet, which a management port must never see. */
export const MIN_PREFIX_LENGTH = 8;

const WHOLE_INTERNET = new Set(["*", "any", "internet", "0.0.0.0", "0.0.0.0/0"]);

/**
 * Parses "a.b.c.d" or "a.b.c.d/n". A bare address becomes a /32. Rejects the NSG wildcards for the
 * whole Internet, ranges wider than /8, and CIDRs with host bits set (Azure normalises them
 * silently, which hides typos).
 */
export function parseIpv4Range(text: string): Ipv4RangeResult {
    const value = text.trim();
    if (WHOLE_INTERNET.has(value.toLowerCase())) {
        return { ok: false, error: "would admit the whole Internet; list your own address or network instead" };
    }
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(value);
    if (!match) return { ok: false, error: "is not an IPv4 address or CIDR (like 203.0.113.7 or 198.51.100.0/24)" };
    const octets = match.slice(1, 5).map(Number);
    if (octets.some((octet, i) => octet > 255 || (match[i + 1].length > 1 && match[i + 1].startsWith("0")))) {
        return { ok: false, error: "has an octet outside 0-255 or with a leading zero" };
    }
    const prefix = match[5] === undefined ? 32 : Number(match[5]);
    if (prefix > 32) return { ok: false, error: "has a prefix length above 32" };
    if (prefix < MIN_PREFIX_LENGTH) {
        return { ok: false, error: `is wider than /${MIN_PREFIX_LENGTH}, too much of the Internet for a management port` };
    }
    const address = octets.reduce((acc, octet) => acc * 256 + octet, 0);
    const blockSize = 2 ** (32 - prefix);
    if (address % blockSize !== 0) {
        const network = address - (address % blockSize);
        return { ok: false, error: `has host bits set; did you mean ${formatIpv4(network)}/${prefix}?` };
    }
    const cidr = prefix === 32 ? formatIpv4(address) : `${formatIpv4(address)}/${prefix}`;
    const overlapping = PRIVATE_RANGES.find(([, network, length]) => {
        const shortest = Math.min(length, prefix);
        const block = 2 ** (32 - shortest);
        return Math.floor(address / block) === Math.floor(network / block);
    });
    return overlapping ? { ok: true, cidr, privateRange: overlapping[0] } : { ok: true, cidr };
}

function formatIpv4(address: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join(".");
}
