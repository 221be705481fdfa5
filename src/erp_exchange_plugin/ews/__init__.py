"""EWS through exchangelib: accounts, credentials fed by msal, TLS trust, our retry policy, error mapping."""
