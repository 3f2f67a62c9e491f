// For tests: Debian's Chromium, headless, as our own child process (stopped by PID), driven by playwright-core.
export { CHROMIUM, CHROMIUM_FLAGS, startChromium, type RunningChromium } from '../scripts/lib/chromium.ts';
