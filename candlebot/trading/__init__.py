"""How decisions become orders and books: the engine loop, the trader, the ledger, price protection and sanity."""
