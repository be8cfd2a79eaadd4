.PHONY: build test lint bench fmt golden fuzz

build:
	go build -o bic ./cmd/bic

test:
	go test -race -count=1 -timeout 30m ./...

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	go vet ./...
	# SA1019: gosnowflake deprecates LoginTimeout and DisableTelemetry with no replacement yet.
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -checks 'inherit,-SA1019' ./...

bench:
	go build -o /tmp/bic ./cmd/bic
	go run ./bench/validate -bic /tmp/bic
	go run ./bench/apply
	go run ./bench/thumbs
	go test -run '^$$' -bench 'PlanChart' ./compiler
	go test -run '^$$' -bench 'Encoders' ./runner/result

fmt:
	gofmt -w $$(git ls-files '*.go')

golden:
	go test ./compiler -run 'TestErrors|TestManifestGolden|TestGoldenSQL' -args -update

fuzz:
	go test -run '^$$' -fuzz FuzzCompileYAML -fuzztime 5m ./compiler
	go test -run '^$$' -fuzz FuzzCompileCUE -fuzztime 5m ./compiler
	go test -run '^$$' -fuzz FuzzValidateTree -fuzztime 5m ./cmd/bic
	go test -run '^$$' -fuzz FuzzCacheEntry -fuzztime 1m ./compiler
	go test -run '^$$' -fuzz FuzzHashPack -fuzztime 1m ./compiler
