// The command line every peer server takes: `--port P [--pubsub]`.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

struct PeerOptions {
  unsigned short port = 0;
  bool pubsub = false;  // every message to every connected client, instead of an echo
};

// Exits with status 2 and the usage line on anything else.
inline PeerOptions parse_peer_options(int argc, char** argv) {
  PeerOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--pubsub") {
      options.pubsub = true;
    } else if (flag == "--port" && i + 1 < argc) {
      options.port = static_cast<unsigned short>(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s --port P [--pubsub]\n", argv[0]);
      std::exit(2);
    }
  }
  return options;
}
