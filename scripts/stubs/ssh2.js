// Bundled in place of ssh2 (used by docker-modem only for ssh:// DOCKER_HOST). virtscope talks to
// local unix sockets; this keeps ssh2 and its optional native addons out of the extension host.
class Client {
  constructor() {
    throw new Error('ssh:// Docker hosts are not supported by virtscope yet: use a local socket (unix://…)');
  }
}
module.exports = { Client };
