/**
 * The frontend's version, compared with the server extension's on activation. A jest test
 * keeps it equal to package.json's (hatch-nodejs-version gives Python the same number).
 */
export const FRONTEND_VERSION = '0.1.0';
