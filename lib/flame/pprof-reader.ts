/**
 * An independent pprof reader for tests: node:zlib gunzip, then protobufjs with a hand-written
 * subset of perftools' profile.proto (not pprof-format, which writes our files). Test-only:
 * nothing in the app imports it (protobufjs is a devDependency).
 */
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

const SCHEMA = `
syntax = "proto3";
package perftools.profiles;
message Profile {
  repeated ValueType sample_type = 1;
  repeated Sample sample = 2;
  repeated Mapping mapping = 3;
  repeated Location location = 4;
  repeated Function function = 5;
  repeated string string_table = 6;
  int64 time_nanos = 9;
  int64 duration_nanos = 10;
  ValueType period_type = 11;
  int64 period = 12;
}
message ValueType { int64 type = 1; int64 unit = 2; }
message Sample { repeated uint64 location_id = 1; repeated int64 value = 2; }
message Mapping { uint64 id = 1; int64 filename = 5; int64 build_id = 6; bool has_functions = 7; }
message Location { uint64 id = 1; uint64 mapping_id = 2; repeated Line line = 4; }
message Line { uint64 function_id = 1; int64 line = 2; }
message Function { uint64 id = 1; int64 name = 2; int64 system_name = 3; int64 filename = 4; }
`;

const ProfileType = protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType('perftools.profiles.Profile');

export interface DecodedPprof {
  sample_type: { type: number; unit: number }[];
  sample: { location_id: number[]; value: number[] }[];
  mapping: { id: number; filename: number; build_id: number; has_functions: boolean }[];
  location: { id: number; mapping_id: number; line: { function_id: number }[] }[];
  function: { id: number; name: number; system_name: number; filename: number }[];
  string_table: string[];
  time_nanos: number;
  duration_nanos: number;
  period_type?: { type: number; unit: number };
  period: number;
}

/** Gunzips and decodes a gzipped pprof Profile. */
export function decodePprof(gz: Uint8Array): DecodedPprof {
  const raw = gunzipSync(gz);
  const message = ProfileType.decode(raw);
  return ProfileType.toObject(message, { longs: Number, defaults: true, arrays: true }) as unknown as DecodedPprof;
}

/** Folded text rebuilt from a decoded profile (value index `which`), root first, sorted. */
export function foldedOfPprof(p: DecodedPprof, which = 0): string {
  const fnName = new Map(p.function.map((f) => [f.id, p.string_table[f.name]]));
  const locName = new Map(p.location.map((l) => [l.id, l.line.map((line) => fnName.get(line.function_id)!).join('|')]));
  const counts = new Map<string, number>();
  for (const s of p.sample) {
    const key = s.location_id
      .map((id) => locName.get(id)!)
      .reverse()
      .join(';');
    counts.set(key, (counts.get(key) ?? 0) + s.value[which]);
  }
  const lines = [...counts].map(([k, v]) => `${k} ${v}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return lines.length ? lines.join('\n') + '\n' : '';
}


/** Each mapping read back as {id, file, buildId} (strings resolved; '' when unset). */
export function mappingsOfPprof(p: DecodedPprof): { id: number; file: string; buildId: string; hasFunctions: boolean }[] {
  return p.mapping.map((m) => ({ id: m.id, file: p.string_table[m.filename], buildId: p.string_table[m.build_id], hasFunctions: m.has_functions }));
}

/** Function name -> the file name of its location's mapping (each function has one location with the same id). */
export function mappingOfFunctions(p: DecodedPprof): Map<string, string[]> {
  const mappingFile = new Map(p.mapping.map((m) => [m.id, p.string_table[m.filename]]));
  const byFunction = new Map<string, string[]>();
  for (const location of p.location) {
    for (const line of location.line) {
      const fn = p.function.find((f) => f.id === line.function_id);
      if (!fn) continue;
      const name = p.string_table[fn.name];
      const files = byFunction.get(name) ?? [];
      files.push(mappingFile.get(location.mapping_id) ?? `(no mapping ${location.mapping_id})`);
      byFunction.set(name, files.sort());
    }
  }
  return byFunction;
}
