export const id = 863;
export const ids = [863];
export const modules = {

/***/ 5863:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   runScriptsCommand: () => (/* binding */ runScriptsCommand)
/* harmony export */ });
/* harmony import */ var _args_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6890);

/** `exo-login run`: placeholder until the worker runner lands. */
async function runScriptsCommand(args, _session, _tokens, io) {
    io.stderr.write(`exo-login run: not available yet (${args.scripts.length} scripts)\n`);
    return Promise.resolve(_args_js__WEBPACK_IMPORTED_MODULE_0__/* .EXIT */ .dc.failure);
}


/***/ })

};
