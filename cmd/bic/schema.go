package main

import (
	"github.com/spf13/cobra"

	"github.com/bic-dev/bic/compiler"
)

func newSchemaCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "schema --json",
		Short: "Print the language's JSON Schema, for editors (yaml-language-server $schema)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !asJSON {
				return usageErrorf("bic schema needs --json (the only format for now)")
			}
			s, err := compiler.NewSchema()
			if err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			b, err := s.JSONSchema()
			if err != nil {
				return &exitError{code: exitRuntime, err: err}
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON Schema (draft 2020-12)")
	return cmd
}
