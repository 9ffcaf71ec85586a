"""Payment channels: camt.054/053 import, FIK, cash register API, portal payments."""
