// Starts the console once every script is loaded (a file, not inline: the CSP allows no inline script).
SR.start();
