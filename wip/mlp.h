/* ridgediff.h implementation fragment under development (issue 3); merged into ridgediff.h when done. */
