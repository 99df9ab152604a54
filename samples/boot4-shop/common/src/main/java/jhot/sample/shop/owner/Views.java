package jhot.sample.shop.owner;

import java.time.LocalDate;
import java.util.List;

/**
 * What the pages and the JSON API show: plain records built inside a transaction (no lazy
 * proxies escape), which is also what the cache holds.
 */
public final class Views {
    private Views() {
    }

    public record OwnerSummary(int id, String name, String city, String telephone, int pets) {
    }

    public record OwnerView(int id, String firstName, String lastName, String address, String city,
                            String telephone, List<PetView> pets) {
        public String name() {
            return firstName + " " + lastName;
        }
    }

    public record PetView(int id, String name, String type, LocalDate birthDate, List<VisitView> visits) {
    }

    public record VisitView(int id, LocalDate date, String description) {
    }
}
