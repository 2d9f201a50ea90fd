package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"tsunagu/internal/auth"
)

// Deletion on a person's request (APPI), by the same eraser as the window:
// one transaction with its audit entry, nothing of the person left.
func eraseCommands() []command {
	return []command{
		{name: "erase conversation", args: "ID", short: "delete a LINE user's conversation, messages and media on request (APPI)", run: cmdEraseConversation},
		{name: "erase customer", args: "NUMBER", short: "delete a customer's record and their LINE conversation, messages and media on request (APPI)", run: cmdEraseCustomer},
	}
}

func cmdEraseConversation(ctx context.Context, c *cmdCtx, args []string) error {
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil {
		return fmt.Errorf("conversation ID: %w", err)
	}
	eng, actor, err := c.openAudited(ctx, auth.PermErase)
	if err != nil {
		return err
	}
	defer eng.Close()
	res, err := eng.Erasure().EraseConversation(ctx, actor, id)
	if err != nil {
		return err
	}
	return c.print(res, func(w io.Writer) {
		fmt.Fprintf(w, "erased conversation %d: %d message(s); only an audit entry remains\n", id, res.Messages)
	})
}

// cmdEraseCustomer erases a customer by customer number, with their linked
// LINE user's conversation.
func cmdEraseCustomer(ctx context.Context, c *cmdCtx, args []string) error {
	eng, actor, err := c.openAudited(ctx, auth.PermErase)
	if err != nil {
		return err
	}
	defer eng.Close()
	id, err := eng.Customers().IDByNumber(ctx, args[0])
	if err != nil {
		return fmt.Errorf("customer %s: %w", args[0], err)
	}
	res, err := eng.Erasure().EraseCustomer(ctx, actor, id)
	if err != nil {
		return err
	}
	return c.print(res, func(w io.Writer) {
		fmt.Fprintf(w, "erased customer %s: %d conversation(s), %d message(s); only an audit entry remains\n", args[0], res.Conversations, res.Messages)
	})
}
