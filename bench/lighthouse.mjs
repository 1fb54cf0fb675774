// Lighthouse's accessibility score of the app's main pages, signed in as the owner.
// Run by bench/lighthouse.py (`python -m bench.lighthouse`), which installs Lighthouse and
// puppeteer-core into bench/.lighthouse/, starts the app on a scratch demo shop and passes:
//   node bench/lighthouse.mjs <node_modules dir> <app url> <json: {owner, pages}> <chromium>
// and reads the JSON this script writes to stdout: one entry per page and width.
//
// Every page is measured as a user-flow snapshot after puppeteer has opened it (and clicked where a
// page state needs clicks, like a dialog): NiceGUI draws over its websocket after the load, so the
// page is ready when its own text is shown, not when the network is quiet.

import {createRequire} from 'node:module';
import {pathToFileURL} from 'node:url';

const [modules, baseUrl, job, chromium] = process.argv.slice(2);
const {owner: OWNER, pages: PAGES} = JSON.parse(job);
const require = createRequire(`${modules}/`);
const load = async name => import(pathToFileURL(require.resolve(name)).href);
const {startFlow} = await load('lighthouse');
const puppeteer = (await load('puppeteer-core')).default;

const WIDTHS = {
  laptop: {width: 1366, height: 768, deviceScaleFactor: 1, isMobile: false, hasTouch: false},
  phone: {width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true},
};
const TIMEOUT = 20_000;

const field = (page, name) => page.locator(`::-p-aria([name="${name}"][role="textbox"])`);
const button = (page, name) => page.locator(`::-p-aria([name="${name}"][role="button"])`);

async function signIn(page) {
  await page.goto(`${baseUrl}/groups`);
  await page.waitForFunction(() => /\/(setup|login)/.test(location.pathname));
  if (page.url().includes('/setup')) {
    await field(page, 'Your name').fill(OWNER.name);
    await field(page, 'Email').fill(OWNER.email);
    await field(page, 'Password').fill(OWNER.password);
    await field(page, 'Repeat the password').fill(OWNER.password);
    await button(page, 'Create owner account').click();
  } else {
    await field(page, 'Email').fill(OWNER.email);
    await field(page, 'Password').fill(OWNER.password);
    await button(page, 'Sign in').click();
  }
  await page.waitForFunction(() => location.pathname === '/groups');
}

// As the e2e axe test waits: Quasar's transitions finished, so nothing is measured half-faded.
async function settled(page) {
  await page.waitForNetworkIdle({idleTime: 300, timeout: TIMEOUT}).catch(() => {});
  await page.waitForFunction(() => document.getAnimations().every(a => a.playState !== 'running'));
}

async function open(page, step) {
  await page.goto(`${baseUrl}${step.path}`);
  await page.locator(`::-p-text(${step.shows})`).setTimeout(TIMEOUT).wait();
  for (const click of step.clicks ?? []) {
    await button(page, click).setTimeout(TIMEOUT).click();
  }
  if (step.then_shows) await page.locator(`::-p-text(${step.then_shows})`).setTimeout(TIMEOUT).wait();
  await settled(page);
}

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
const results = [];
try {
  for (const [width, viewport] of Object.entries(WIDTHS)) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport(viewport);
    page.setDefaultTimeout(TIMEOUT);
    await signIn(page);
    const flow = await startFlow(page, {
      config: {
        extends: 'lighthouse:default',
        settings: {
          onlyCategories: ['accessibility'],
          formFactor: viewport.isMobile ? 'mobile' : 'desktop',
          screenEmulation: {disabled: true}, // puppeteer's viewport above is the one measured
        },
      },
    });
    for (const step of PAGES) {
      await open(page, step);
      await flow.snapshot({name: step.name});
    }
    const {steps} = await flow.createFlowResult();
    for (const {name, lhr} of steps) {
      const failing = Object.values(lhr.audits)
        .filter(audit => audit.score !== null && audit.score < 1 && audit.scoreDisplayMode === 'binary')
        .map(audit => ({
          id: audit.id,
          title: audit.title,
          nodes: (audit.details?.items ?? []).slice(0, 4).map(item => ({
            snippet: item.node?.snippet ?? '',
            explanation: item.node?.explanation ?? '',
          })),
        }));
      results.push({page: name, width, score: Math.round(lhr.categories.accessibility.score * 100), failing});
    }
    await context.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results));
