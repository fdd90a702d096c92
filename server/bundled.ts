/**
 * Whether this code runs from the esbuild bundle (dist/, what users run) or from the TypeScript
 * sources under tsx (tests, benchmarks). scripts/build.mjs defines PROBEBOARD_BUNDLED as `true`;
 * from the sources the name is undeclared at run time and `typeof` says so.
 */
declare const PROBEBOARD_BUNDLED: boolean | undefined;

export const BUNDLED: boolean = typeof PROBEBOARD_BUNDLED !== 'undefined' && PROBEBOARD_BUNDLED === true;
