"""The sync engine, generic over item types (the model: vdirsyncer, plus crash-proof duplicate
prevention and bulk EWS writes).

- :mod:`.policy`: conflict policies;
- :mod:`.guard`: the deletion guard;
- :mod:`.report`: what one run did;
- :mod:`.exchange`: one Exchange folder through exchangelib: change pages, bulk writes, lookups;
- :mod:`.engine`: one run for one user and item type.
"""
