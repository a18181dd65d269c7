/** Never download a browser at install time: there is no network. Use Debian's chromium. */
module.exports = { skipDownload: true, executablePath: process.env.PUPPETEER_EXECUTABLE_PATH ?? '/usr/bin/chromium' };
