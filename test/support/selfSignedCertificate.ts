// A throwaway TLS certificate for a loopback test server, made at test time with node:crypto alone:
// no private key is ever committed, and no openssl binary is needed (Windows and macOS included).
// The certificate is self-signed, valid for 127.0.0.1 (subjectAltName IP) and any DNS names asked
// for (a child process that reaches a loopback fake under Azure's host names), for one day.
import * as crypto from "node:crypto";

/** DER: tag, definite length, contents. */
function der(tag: number, ...contents: Buffer[]): Buffer {
    const body = Buffer.concat(contents);
    const length = body.length < 0x80
        ? Buffer.from([body.length])
        : (() => {
            const bytes: number[] = [];
            for (let n = body.length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
            return Buffer.from([0x80 | bytes.length, ...bytes]);
        })();
    return Buffer.concat([Buffer.from([tag]), length, body]);
}

const sequence = (...items: Buffer[]) => der(0x30, ...items);
const set = (...items: Buffer[]) => der(0x31, ...items);
const integer = (bytes: Buffer) => der(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
const octetString = (bytes: Buffer) => der(0x04, bytes);
const bitString = (bytes: Buffer) => der(0x03, Buffer.from([0]), bytes);
const utf8String = (text: string) => der(0x0c, Buffer.from(text, "utf8"));
const boolean = (value: boolean) => der(0x01, Buffer.from([value ? 0xff : 0]));
const explicit = (n: number, item: Buffer) => der(0xa0 + n, item);

function oid(dotted: string): Buffer {
    const [first, second, ...rest] = dotted.split(".").map(Number);
    const bytes = [first * 40 + second];
    for (const arc of rest) {
        const chunk: number[] = [arc & 0x7f];
        for (let n = arc >> 7; n > 0; n >>= 7) chunk.unshift((n & 0x7f) | 0x80);
        bytes.push(...chunk);
    }
    return der(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Buffer {
    const iso = date.toISOString(); // 2026-01-02T03:04:05.678Z -> 260102030405Z
    return der(0x17, Buffer.from(`${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`));
}

/** A random positive serial in minimal DER: no leading 0x00 (OpenSSL refuses "illegal padding"), high bit clear. */
function serialNumber(): Buffer {
    const bytes = crypto.randomBytes(8);
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    return bytes;
}

export interface TestCertificate {
    /** PEM certificate: the server's, and the only CA its clients trust. */
    cert: string;
    /** PEM private key; lives in memory for the test run only. */
    key: string;
}

/** An ECDSA P-256 certificate for 127.0.0.1 (and `dnsNames`), signed by its own key. */
export function selfSignedCertificate(dnsNames: readonly string[] = []): TestCertificate {
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const ecdsaWithSha256 = sequence(oid("1.2.840.10045.4.3.2"));
    const name = sequence(set(sequence(oid("2.5.4.3"), utf8String("127.0.0.1"))));
    const now = Date.now();
    const extensions = sequence(
        // basicConstraints (critical): a CA, so that clients may trust it as their one anchor.
        sequence(oid("2.5.29.19"), boolean(true), octetString(sequence(boolean(true)))),
        // subjectAltName: iPAddress [7] 127.0.0.1, what TLS clients match a loopback URL against; dNSName [2] each name.
        sequence(oid("2.5.29.17"), octetString(sequence(der(0x87, Buffer.from([127, 0, 0, 1])), ...dnsNames.map((name) => der(0x82, Buffer.from(name, "ascii")))))),
    );
    const tbs = sequence(
        explicit(0, integer(Buffer.from([2]))),
        integer(serialNumber()),
        ecdsaWithSha256,
        name,
        sequence(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 86_400_000))),
        name,
        publicKey.export({ type: "spki", format: "der" }),
        explicit(3, extensions),
    );
    const signature = crypto.sign("sha256", tbs, privateKey);
    const certificate = sequence(tbs, ecdsaWithSha256, bitString(signature));
    const base64 = certificate.toString("base64").replace(/(.{64})/g, "$1\n");
    return {
        cert: `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`,
        key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    };
}
