"""The registry client (resolve, pull, push, auth, search) and, in `server/`, the registry server."""
