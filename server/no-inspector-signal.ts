/**
 * Imported first by every process entry point (bin/probeboard.js does the same inline): a
 * JavaScript SIGUSR1 listener replaces Node's own SIGUSR1 handler, which would open the inspector
 * on 127.0.0.1:9229, i.e. run code in this process for any local user who can connect to it.
 * Node 20 has no --disable-sigusr1. Any process of the same uid may send SIGUSR1 (after serve
 * drops root, that is every process of the sudo user or of nobody); with this, it does nothing.
 * An ES module's imports run in order, so importing this module first installs the listener
 * before any other module of the process is evaluated.
 */
process.on('SIGUSR1', () => undefined);
