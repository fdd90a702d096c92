/** User-timing marks around each measured update of /bench/render (bench/render.ts --cpu reads them from a Chrome trace). */
export const UPDATE_START_MARK = 'pb-bench-update-start';
export const UPDATE_END_MARK = 'pb-bench-update-end';
