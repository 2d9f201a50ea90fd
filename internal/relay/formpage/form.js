/* placeholder until make forms-page */
