/**
 * Bundle-time stand-in for jsonwebtoken (mapped in tsconfig.json `paths`). MSAL Node uses it only to sign
 * certificate assertions; exo-login presents federated tokens through MSAL's assertion callback and never signs.
 * Bundling it also brought semver and lodash, whose start-up work every run paid.
 */
const jsonwebtoken = {
  sign(): never {
    throw new Error(
      'jsonwebtoken is not bundled in exo-login: certificate credentials are not supported (see src/bundle/jsonwebtoken-stub.ts)',
    );
  },
};
export default jsonwebtoken;
