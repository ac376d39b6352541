# Where a native test finds Node's and node-addon-api's headers, for the tests that compile N-API
# code (tun-windows' mingw objects, wireguard's other-OS sources). Included by their Makefiles as
# $(CORE_INCLUDE)/../test/node-headers.mk.
# Node's headers: npm_config_nodedir when set, else Debian's /usr/include/node (the nodejs
# package ships them), else the copy node-gyp downloaded for this Node version.
ADDON_API := $(shell node -p "require('node-addon-api').include_dir")
NODE_VERSION := $(shell node -p "process.versions.node")
NODE_INCLUDE := $(or $(if $(npm_config_nodedir),$(npm_config_nodedir)/include/node),$(wildcard /usr/include/node),$(HOME)/.cache/node-gyp/$(NODE_VERSION)/include/node)
NODE_HEADERS_MISSING := "Node's headers are missing at $(NODE_INCLUDE): set npm_config_nodedir to a Node source or headers directory, or run the package's build first (node-gyp downloads them)"
