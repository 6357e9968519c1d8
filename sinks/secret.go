package sinks

import connector "github.com/agentphone-connector/connector"

// Secret is a password or token in a sink's configuration; see
// connector.Secret. Config fields of this type carry the tag `secret:"true"`.
type Secret = connector.Secret
