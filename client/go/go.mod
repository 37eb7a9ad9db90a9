module repgate.dev/repgate

go 1.19
