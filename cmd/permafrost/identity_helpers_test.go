package main

import "github.com/permafrost/permafrost/internal/glacier"

// The tests make identities straight in a store with the domain's
// generators.
var (
	newAccountID = glacier.NewAccountID
	newAccessKey = glacier.NewAccessKey
	newUserID    = glacier.NewUserID
)
