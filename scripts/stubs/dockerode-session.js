// Bundled in place of dockerode's lib/session.js (BuildKit sessions over gRPC): virtscope never
// builds images, so the 400 KB gRPC/protobuf stack stays out of the extension.
module.exports = function withSession(_docker, _auth, handler) {
  handler(new Error('BuildKit sessions are not supported by virtscope'));
};
