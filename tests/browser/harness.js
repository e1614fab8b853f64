// Shared pieces of the browser tests: the real huginn-profiler binary on
// ephemeral loopback ports, Debian's browsers through puppeteer-core, and
// visitors from other loopback addresses. Everything started here is
// stopped by its own handle (Server.stop, browser.close) or, at exit, by
// killAll().
'use strict';

const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');

const children = new Set();

function killAll() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch (e) {
      // already gone
    }
  }
  children.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(1);
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Runs `fn` with a deadline; rejects with `what` when it passes.
async function within(ms, what, fn) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out after ' + ms + ' ms: ' + what)), ms);
  });
  try {
    return await Promise.race([fn(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

// `serve --no-capture` on 127.0.0.1. Ports 0 pick free ones; the bound
// ports are read from the "dashboard at ..." log lines, as tests/e2e do.
class Server {
  constructor({ bin, stateDir, logPath }) {
    this.bin = bin;
    this.stateDir = stateDir;
    this.logPath = logPath;
    this.httpPort = 0;
    this.tlsPort = 0;
    this.proc = null;
  }

  async start() {
    fs.mkdirSync(this.stateDir, { recursive: true });
    const log = fs.openSync(this.logPath, 'a');
    const args = ['serve', '--no-capture', '--listen', '127.0.0.1:' + this.httpPort,
                  '--tls-listen', '127.0.0.1:' + this.tlsPort, '--state-dir', this.stateDir];
    const startedAt = fs.statSync(this.logPath).size;
    this.proc = spawn(this.bin, args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    children.add(this.proc);
    const proc = this.proc;
    proc.on('exit', () => children.delete(proc));
    await within(10000, 'serve to start (' + this.logPath + ')', async () => {
      for (;;) {
        const text = fs.readFileSync(this.logPath, 'utf8').slice(startedAt);
        const http = /dashboard at http:\/\/127\.0\.0\.1:(\d+)\//.exec(text);
        const https = /dashboard at https:\/\/127\.0\.0\.1:(\d+)\//.exec(text);
        if (http && https) {
          this.httpPort = Number(http[1]);
          this.tlsPort = Number(https[1]);
          return;
        }
        if (proc.exitCode !== null) throw new Error('serve exited: ' + text);
        await sleep(50);
      }
    });
  }

  // SIGTERM, then SIGKILL if it has not exited within 3 s.
  // A server that died on its own (a signal: exitCode stays null) is an
  // error, not something to wait for.
  async stop() {
    const proc = this.proc;
    if (proc && proc.signalCode !== null) {
      this.proc = null;
      throw new Error('serve died by ' + proc.signalCode + ' (' + this.logPath + ')');
    }
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    this.proc = null;
  }

  get http() {
    return 'http://127.0.0.1:' + this.httpPort;
  }

  get https() {
    return 'https://127.0.0.1:' + this.tlsPort;
  }
}

// One request from `fromIp` (another loopback address, so that the browser's
// own 127.0.0.1 profile is not the one that changes). The server profiles
// its visitors from its own sockets, so this creates or updates fromIp's
// profile. Returns curl's exit status and the HTTP status.
function visit(url, fromIp, extraArgs = []) {
  return new Promise((resolve) => {
    execFile('curl', ['-sk', '--noproxy', '*', '--max-time', '5', '--interface', fromIp,
                      '-o', '/dev/null', '-w', '%{http_code}', ...extraArgs, url],
             (err, stdout) => resolve({ ok: !err, code: stdout }));
  });
}

function chromiumPath() {
  // The real binary, without the wrapper script's shell warning.
  return fs.existsSync('/usr/lib/chromium/chromium') ? '/usr/lib/chromium/chromium' : '/usr/bin/chromium';
}

async function launch(puppeteer, name, profileDir) {
  fs.mkdirSync(profileDir, { recursive: true });
  if (name === 'chromium') {
    return puppeteer.launch({
      executablePath: chromiumPath(),
      headless: true,
      acceptInsecureCerts: true,
      userDataDir: profileDir,
      defaultViewport: { width: 1280, height: 800 },
      timeout: 20000,
      // Background networking would try to reach the internet, closed here.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             '--disable-dev-shm-usage'],
    });
  }
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: '/usr/bin/firefox-esr',
    headless: true,
    acceptInsecureCerts: true,
    userDataDir: profileDir,
    defaultViewport: { width: 1280, height: 800 },
    timeout: 30000,
    extraPrefsFirefox: {
      'network.http.http3.enable': false,
      // No update checks, telemetry or captive-portal probes off the machine.
      'app.update.enabled': false,
      'network.captive-portal-service.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
    },
  });
}

module.exports = { Server, visit, launch, within, sleep, killAll };
