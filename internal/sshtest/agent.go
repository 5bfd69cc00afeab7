package sshtest

import (
	"fmt"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// addKey adds the private key in keyFile to the agent ag.
func addKey(ag agent.Agent, keyFile string) error {
	pemBytes, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	key, err := ssh.ParseRawPrivateKey(pemBytes)
	if err != nil {
		return fmt.Errorf("parse %s: %w", keyFile, err)
	}
	return ag.Add(agent.AddedKey{PrivateKey: key, Comment: "fanout-sshtest-client"})
}
