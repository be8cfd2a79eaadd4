package main

import (
	"github.com/spf13/cobra"
)

// projectArgs accepts a command's n fixed arguments and then, optionally,
// the project folder, so that `bic plan DIR` works like `bic plan -p DIR`
// and `bic validate -p DIR` like `bic validate DIR`. Giving both, with
// different folders, is a usage error rather than a silent choice.
func projectArgs(dir *string, n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(n, n+1)(cmd, args); err != nil {
			return err
		}
		if len(args) == n {
			return nil
		}
		arg := args[n]
		if cmd.Flags().Changed("project") && arg != *dir {
			return usageErrorf("the project folder is given twice: %q and -p %q; give one", arg, *dir)
		}
		*dir = arg
		return nil
	}
}

// addProjectFlag registers -p/--project and the optional DIR argument.
func addProjectFlag(cmd *cobra.Command, dir *string, fixedArgs int) {
	cmd.Flags().StringVarP(dir, "project", "p", ".", "the project folder (or give it as the last argument)")
	cmd.Args = projectArgs(dir, fixedArgs)
}
