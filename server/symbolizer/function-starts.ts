/**
 * Where the functions of a binary without symbols start, from its `.eh_frame_hdr`.
 *
 * A stripped binary (chromium, most of a distribution's libraries past their .dynsym) names
 * nothing, so its code is shown as `file+0xOFFSET`. Naming each sampled address that way makes
 * one leaf frame per sampled instruction; naming it after the start of the function that holds
 * it keeps one frame per function, as a symbol would. The linker's `.eh_frame_hdr` search table
 * lists the first address of every FDE, sorted: FDEs are (nearly always) one per function, so
 * it is the list of function starts at 8 bytes a function, read without parsing any CFI.
 *
 * The table gives no ends: an address past the last FDE of a gap (code without CFI, rare in
 * compiled code) is attributed to the function before it. Better than one frame per address,
 * and the offset still points into the right binary.
 */
import type { ElfFile } from './elf.ts';
import { parseEhFrameHdr, PT_GNU_EH_FRAME } from '../unwind/eh-frame.ts';

/** Most entries believed (a table larger than this is not from a real binary): 8 MiB of starts. */
const MAX_STARTS = 1 << 20;

/**
 * The sorted, distinct first addresses (ELF virtual addresses) of the binary's FDEs, or null
 * when it has no usable `.eh_frame_hdr` (none, another version, or malformed). Never throws.
 */
export function functionStartsOf(elf: ElfFile): Float64Array | null {
  try {
    const hdr = ehFrameHdrBytes(elf);
    if (!hdr) return null;
    const { table } = parseEhFrameHdr(hdr.data, hdr.address);
    if (table.length === 0 || table.length > MAX_STARTS) return null;
    const starts = Float64Array.from(table, (entry) => entry.pc).sort();
    // Distinct (identical FDE starts are legal; one frame per start is enough).
    let n = 0;
    for (let i = 0; i < starts.length; i++) if (n === 0 || starts[i] !== starts[n - 1]) starts[n++] = starts[i];
    return n === starts.length ? starts : starts.slice(0, n);
  } catch {
    return null;
  }
}

/** The greatest start at or below `vaddr`, or undefined (below the first). Binary search. */
export function functionStartAt(starts: Float64Array, vaddr: number): number | undefined {
  let lo = 0;
  let hi = starts.length - 1;
  if (hi < 0 || vaddr < starts[0]) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= vaddr) lo = mid;
    else hi = mid - 1;
  }
  return starts[lo];
}

/** `.eh_frame_hdr`'s bytes and virtual address: by section header, else through PT_GNU_EH_FRAME. */
function ehFrameHdrBytes(elf: ElfFile): { data: Buffer; address: number } | undefined {
  const section = elf.section('.eh_frame_hdr');
  if (section && section.size > 0 && section.type !== 8 /* SHT_NOBITS */) {
    return { data: elf.sectionContents(section), address: Number(section.addr) };
  }
  const segment = elf.programHeaders.find((p) => p.type === PT_GNU_EH_FRAME);
  if (!segment || segment.filesz === 0) return undefined;
  const view = { index: -1, name: 'PT_GNU_EH_FRAME', type: 1, flags: 0n, addr: segment.vaddr, offset: segment.offset, size: segment.filesz, link: 0, info: 0, addralign: 1, entsize: 0 };
  return { data: elf.sectionContents(view), address: Number(segment.vaddr) };
}
