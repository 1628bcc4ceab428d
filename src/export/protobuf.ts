// A minimal protocol-buffers writer: the wire format's varints and length-delimited fields,
// enough to write an ONNX model (onnx.ts) without a protobuf dependency.
// https://protobuf.dev/programming-guides/encoding/ : a field is a key varint
// (field_number << 3 | wire_type), then a varint (type 0) or a varint length followed by that
// many bytes (type 2: strings, bytes, nested messages, packed lists). ONNX needs no other.

const VARINT = 0;
const LEN = 2;

/** The varint bytes of an unsigned or (two's complement, 10 bytes) negative 64-bit integer. */
export function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

/** One message being written: append fields in order, then encode(). */
export class Message {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array | number[]): void {
    const u = b instanceof Uint8Array ? b : Uint8Array.from(b);
    this.parts.push(u);
    this.size += u.length;
  }

  private key(field: number, wire: number): void {
    this.push(varint((field << 3) | wire));
  }

  /** int32, int64, uint64, enum, bool. */
  int(field: number, value: number | bigint): this {
    this.key(field, VARINT);
    this.push(varint(value));
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, LEN);
    this.push(varint(value.length));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, m: Message): this {
    return this.bytes(field, m.encode());
  }

  /** A repeated int64 field, packed (one length-delimited run of varints). */
  packedInts(field: number, values: number[]): this {
    return this.bytes(field, Uint8Array.from(values.flatMap((v) => varint(v))));
  }

  /** The message's bytes (to write, or to nest with message()). */
  encode(): Uint8Array {
    return Buffer.concat(this.parts, this.size);
  }
}
