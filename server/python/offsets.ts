/**
 * Struct layouts of CPython interpreters, per minor version: what a reader outside the process
 * (the BPF frame walker, `code-objects.ts`) needs to follow `_PyRuntime` to the threads, a
 * thread to its current frame, a frame to its code object, and a code object to its names.
 *
 * All offsets are in bytes from the start of the struct named, for x86_64 / aarch64 LP64 builds
 * (8-byte pointers, 4-byte int) of the release build (no Py_DEBUG / Py_TRACE_REFS: those add
 * two pointers to every object header, and distributions ship neither).
 *
 * Only versions with a table are supported: `offsetsFor` returns undefined for any other, and
 * callers report the version as unsupported rather than guessing from a neighbour.
 *
 * `offsets.test.ts` compiles a C program against the installed headers (python3.11-dev,
 * `-DPy_BUILD_CORE` for the `internal/` ones) printing `offsetof` of every field below, and
 * compares: the table cannot drift from the headers silently.
 */

/** A CPython minor version, e.g. `{ major: 3, minor: 11 }`. */
export interface PythonMinorVersion {
  major: number;
  minor: number;
}

export interface CPythonOffsets {
  /** `_PyRuntimeState` (Include/internal/pycore_runtime.h), the `_PyRuntime` symbol. */
  runtime: {
    /** `interpreters.head`: the newest `PyInterpreterState *` (new ones are prepended: the main interpreter is last). */
    interpretersHead: number;
    /** `gilstate.autoTSSkey`: the `Py_tss_t` whose pthread key maps a thread to its `PyThreadState *`. */
    autoTssKey: number;
  };
  /** `Py_tss_t` (Include/cpython/pythread.h): `{ int _is_initialized; pthread_key_t _key; }`. */
  tss: {
    /** `_key`: the pthread key (an unsigned int). */
    key: number;
  };
  /** `PyInterpreterState` = `struct _is` (Include/internal/pycore_interp.h). */
  interpreter: {
    /** `next`: the next interpreter, NULL at the end. */
    next: number;
    /** `threads.head`: the first `PyThreadState *` of this interpreter. */
    threadsHead: number;
  };
  /** `PyThreadState` = `struct _ts` (Include/cpython/pystate.h). */
  threadState: {
    /** `next`: the next thread state of the same interpreter. */
    next: number;
    /** `interp`: the owning `PyInterpreterState *`. */
    interp: number;
    /** `cframe`: the `_PyCFrame *` of the C evaluation loop currently running (3.11, 3.12). */
    cframe: number;
    /** `thread_id`: `pthread_self()` of the thread (unsigned long). */
    threadId: number;
    /** `native_thread_id`: the kernel thread id (TID), unsigned long. */
    nativeThreadId: number;
  };
  /** `_PyCFrame` (Include/cpython/pystate.h). */
  cframe: {
    /** `current_frame`: the innermost `_PyInterpreterFrame *`, NULL when no Python code runs. */
    currentFrame: number;
  };
  /** `_PyInterpreterFrame` (Include/internal/pycore_frame.h). */
  interpreterFrame: {
    /** `f_code`: the `PyCodeObject *` executing. */
    code: number;
    /** `previous`: the caller's frame, NULL at the bottom. */
    previous: number;
    /**
     * `prev_instr`: `_Py_CODEUNIT *` inside the code object's `co_code_adaptive`; the byte offset
     * of the current instruction is `prev_instr - (code + code.codeAdaptive)` (a code unit is 2 bytes).
     */
    prevInstr: number;
    /** `owner`: one char, `enum _frameowner` (0 thread, 1 generator, 2 frame object; 3.12 adds 3 C stack). */
    owner: number;
  };
  /** `PyCodeObject` (Include/cpython/code.h, the `_PyCode_DEF` macro). */
  code: {
    /** `ob_base.ob_base.ob_type`: the type pointer, `&PyCode_Type` for a code object. */
    type: number;
    /** `ob_base.ob_size`: number of code units (2 bytes each) in `co_code_adaptive`. */
    size: number;
    /** `co_firstlineno`: int, the line of the `def` (1 for a module). */
    firstLineNo: number;
    /** `co_filename`: `PyUnicodeObject *`. */
    filename: number;
    /** `co_name`: `PyUnicodeObject *`, the bare name (`hot`). */
    name: number;
    /** `co_qualname`: `PyUnicodeObject *`, the qualified name (`Server.hot`, `main.<locals>.f`). */
    qualname: number;
    /** `co_linetable`: `PyBytesObject *`, the location table (Objects/locations.md of the version). */
    lineTable: number;
    /** `co_code_adaptive`: the bytecode, inline at the end of the object. */
    codeAdaptive: number;
  };
  /** `PyASCIIObject` / `PyCompactUnicodeObject` (Include/cpython/unicodeobject.h). */
  unicode: {
    /** `length`: Py_ssize_t, number of code points. */
    length: number;
    /** `state`: a 32-bit bitfield word, decoded with the masks below. */
    state: number;
    /** Mask of `state.kind` in the state word: 1, 2 or 4 bytes per code point. */
    kindMask: number;
    /** Right shift bringing `state.kind` to bit 0. */
    kindShift: number;
    /** Mask of `state.compact`: the characters follow the struct. */
    compactMask: number;
    /** Mask of `state.ascii`: only code points < 128, data right after a `PyASCIIObject`. */
    asciiMask: number;
    /** `sizeof(PyASCIIObject)`: where a compact ASCII string's bytes start. */
    asciiData: number;
    /** `sizeof(PyCompactUnicodeObject)`: where a compact non-ASCII string's code points start. */
    compactData: number;
  };
  /** `PyBytesObject` (Include/cpython/bytesobject.h). */
  bytes: {
    /** `ob_base.ob_size`: number of bytes (without the trailing NUL). */
    size: number;
    /** `ob_sval`: the bytes, inline. */
    data: number;
  };
}

/**
 * CPython 3.11 (checked against Debian 12's python3.11-dev 3.11.2; the layouts are fixed for a
 * minor version: they are ABI of the internal C API, which does not change in bug-fix releases).
 */
const CPYTHON_3_11: CPythonOffsets = {
  // pycore_runtime.h: `_PyRuntimeState { int _initialized; int preinitializing; int preinitialized;
  // int core_initialized; int initialized; _Py_atomic_address _finalizing; struct pyinterpreters
  // { PyThread_type_lock mutex; PyInterpreterState *head; ... } interpreters; ...; struct
  // _gilstate_runtime_state gilstate; ...}`; gilstate (pycore_gil.h/pycore_runtime.h) holds
  // `check_enabled, tstate_current, autoInterpreterState, autoTSSkey`.
  runtime: { interpretersHead: 40, autoTssKey: 592 },
  tss: { key: 4 },
  // pycore_interp.h: `struct _is { PyInterpreterState *next; struct pythreads { uint64_t
  // next_unique_id; PyThreadState *head; ... } threads; ...}`.
  interpreter: { next: 0, threadsHead: 16 },
  // cpython/pystate.h: `struct _ts { PyThreadState *prev, *next; PyInterpreterState *interp;
  // int _initialized; int _static; int recursion_remaining; int recursion_limit;
  // int recursion_headroom; int tracing; int tracing_what; _PyCFrame *cframe; ...
  // unsigned long thread_id; unsigned long native_thread_id; ...}`.
  threadState: { next: 8, interp: 16, cframe: 56, threadId: 152, nativeThreadId: 160 },
  // cpython/pystate.h: `_PyCFrame { uint8_t use_tracing; _PyInterpreterFrame *current_frame; ...}`.
  cframe: { currentFrame: 8 },
  // pycore_frame.h: `_PyInterpreterFrame { f_func, f_globals, f_builtins, f_locals, f_code,
  // frame_obj, previous, prev_instr (pointers); int stacktop; bool is_entry; char owner; ...}`.
  interpreterFrame: { code: 32, previous: 48, prevInstr: 56, owner: 69 },
  // cpython/code.h `_PyCode_DEF`: PyObject_VAR_HEAD (refcnt, type, size), co_consts, co_names,
  // co_exceptiontable, int co_flags, short co_warmup, short _co_linearray_entry_size,
  // 9 ints (co_argcount .. co_nfreevars, co_firstlineno 5th), co_localsplusnames,
  // co_localspluskinds, co_filename, co_name, co_qualname, co_linetable, co_weakreflist,
  // _co_code, _co_linearray, int _co_firsttraceable, co_extra, co_code_adaptive[].
  code: { type: 8, size: 16, firstLineNo: 72, filename: 112, name: 120, qualname: 128, lineTable: 136, codeAdaptive: 184 },
  // cpython/unicodeobject.h: `PyASCIIObject { PyObject_HEAD; Py_ssize_t length; Py_hash_t hash;
  // struct { unsigned interned:2, kind:3, compact:1, ascii:1, ready:1; } state; wchar_t *wstr; }`
  // (48 bytes); `PyCompactUnicodeObject` adds utf8_length, utf8, wstr_length (72 bytes). GCC
  // allocates bitfields from bit 0 on little-endian targets.
  unicode: { length: 16, state: 32, kindMask: 0x1c, kindShift: 2, compactMask: 0x20, asciiMask: 0x40, asciiData: 48, compactData: 72 },
  // cpython/bytesobject.h: `PyBytesObject { PyObject_VAR_HEAD; Py_hash_t ob_shash; char ob_sval[1]; }`.
  bytes: { size: 16, data: 32 },
};

const TABLES: ReadonlyMap<string, CPythonOffsets> = new Map([['3.11', CPYTHON_3_11]]);

/** The layout table of a CPython minor version, or undefined when there is none (never a neighbour's). */
export function offsetsFor(version: PythonMinorVersion): CPythonOffsets | undefined {
  return TABLES.get(`${version.major}.${version.minor}`);
}

/** Minor versions with a table, as 'X.Y' strings (for messages: "supported: 3.11"). */
export function supportedVersions(): string[] {
  return [...TABLES.keys()];
}
