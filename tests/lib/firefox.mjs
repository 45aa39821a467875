// Debian's firefox-esr driven by puppeteer-core over WebDriver BiDi: never a
// downloaded browser. A fresh profile directory per launch, removed on close.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

// WebRTC on loopback: host candidates on 127.0.0.1, not hidden behind mDNS
// names, and no prompt or gesture needed to play.
export const FIREFOX_PREFS = {
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.peerconnection.ice.link_local': true,
  'media.peerconnection.ice.default_address_only': false,
  'media.peerconnection.ice.no_host': false,
  'media.peerconnection.use_document_iceservers': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'media.navigator.permission.disabled': true,
  // Quiet: no update checks, telemetry, first-run pages or remote settings.
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'extensions.update.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/',
};

export const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';

// Resolves with a puppeteer Browser; close() also removes the profile.
export async function launchFirefox({ prefs = {} } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'whepcam-firefox-'));
  let browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox', executablePath: FIREFOX, headless: true, userDataDir: profile,
      extraPrefsFirefox: { ...FIREFOX_PREFS, ...prefs }, protocolTimeout: 60000,
      // MOZ_* keep it off any display and out of crash-reporter dialogs.
      env: { ...process.env, MOZ_HEADLESS: '1', MOZ_CRASHREPORTER_DISABLE: '1' },
    });
  } catch (e) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const close = browser.close.bind(browser);
  browser.close = async () => {
    try { await close(); } finally { fs.rmSync(profile, { recursive: true, force: true }); }
  };
  return browser;
}
