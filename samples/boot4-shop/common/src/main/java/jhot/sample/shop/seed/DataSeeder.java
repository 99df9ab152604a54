package jhot.sample.shop.seed;

import jhot.sample.shop.model.NamedEntity;
import jhot.sample.shop.owner.Owner;
import jhot.sample.shop.owner.OwnerRepository;
import jhot.sample.shop.owner.Pet;
import jhot.sample.shop.owner.PetType;
import jhot.sample.shop.owner.PetTypeRepository;
import jhot.sample.shop.owner.Visit;
import jhot.sample.shop.vet.Specialty;
import jhot.sample.shop.vet.SpecialtyRepository;
import jhot.sample.shop.vet.Vet;
import jhot.sample.shop.vet.VetRepository;
import org.springframework.boot.CommandLineRunner;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;

import java.time.LocalDate;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * Seeds the in-memory database at start: 6 pet types, 4 specialties, 8 vets, 24 owners with 1 to 3
 * pets each, and a few visits per pet. Always the same data (no randomness), so pages and JSON are
 * the same from one run to the next.
 */
@Component
public class DataSeeder implements CommandLineRunner {
    private static final List<String> TYPES = List.of("bird", "cat", "dog", "hamster", "lizard", "snake");
    private static final List<String> SPECIALTIES = List.of("dentistry", "radiology", "surgery", "nutrition");
    private static final List<String> FIRST = List.of("George", "Betty", "Eduardo", "Harold", "Peter", "Jean",
            "Jeff", "Maria", "David", "Carlos", "Ana", "Linh");
    private static final List<String> LAST = List.of("Franklin", "Davis", "Rodriquez", "Black", "McTavish",
            "Coleman", "Escobito", "Schroeder", "Estaban", "Nguyen", "Okafor", "Varga");
    private static final List<String> CITIES = List.of("Madison", "Sun Prairie", "McFarland", "Windsor", "Monona");
    private static final List<String> PET_NAMES = List.of("Leo", "Basil", "Rosy", "Jewel", "Iggy", "George",
            "Samantha", "Max", "Lucky", "Mulligan", "Freddy", "Sly", "Tiger", "Pepper");
    private static final List<String> REASONS = List.of("rabies shot", "neutered", "spayed", "checkup",
            "dental cleaning", "broken leg");

    private final OwnerRepository owners;
    private final PetTypeRepository types;
    private final VetRepository vets;
    private final SpecialtyRepository specialties;

    public DataSeeder(OwnerRepository owners, PetTypeRepository types, VetRepository vets,
                      SpecialtyRepository specialties) {
        this.owners = owners;
        this.types = types;
        this.vets = vets;
        this.specialties = specialties;
    }

    @Override
    @Transactional
    public void run(String... args) {
        if (owners.count() > 0) {
            return;
        }
        List<PetType> petTypes = types.saveAll(TYPES.stream().map(named(PetType::new)).toList());
        List<Specialty> specs = specialties.saveAll(SPECIALTIES.stream().map(named(Specialty::new)).toList());
        vets.saveAll(IntStream.range(0, 8).mapToObj(i -> {
            Vet v = new Vet();
            v.setFirstName(FIRST.get((i * 5 + 3) % FIRST.size()));
            v.setLastName(LAST.get((i * 7 + 2) % LAST.size()));
            for (int s = 0; s < i % 3; s++) {
                v.addSpecialty(specs.get((i + s) % specs.size()));
            }
            return v;
        }).toList());
        owners.saveAll(IntStream.range(0, 24).mapToObj(i -> owner(i, petTypes)).toList());
    }

    private static Owner owner(int i, List<PetType> petTypes) {
        Owner o = new Owner();
        o.setFirstName(FIRST.get(i % FIRST.size()));
        o.setLastName(LAST.get((i * 5 + i / LAST.size()) % LAST.size()));
        o.setAddress((100 + i * 37) + " " + LAST.get((i + 3) % LAST.size()) + " St.");
        o.setCity(CITIES.get(i % CITIES.size()));
        o.setTelephone(String.format("608555%04d", 1000 + i * 123));
        for (int k = 0; k <= i % 3; k++) {
            int n = i * 3 + k;
            Pet p = new Pet();
            p.setName(PET_NAMES.get(n % PET_NAMES.size()));
            p.setBirthDate(LocalDate.of(2015 + n % 10, 1 + n % 12, 1 + n % 28));
            p.setType(petTypes.get(n % petTypes.size()));
            for (int j = 0; j < 1 + n % 3; j++) {
                Visit v = new Visit();
                v.setDate(LocalDate.of(2024, 1 + (n + j) % 12, 1 + (n * 3 + j) % 28));
                v.setDescription(REASONS.get((n + j) % REASONS.size()));
                p.addVisit(v);
            }
            o.addPet(p);
        }
        return o;
    }

    private static <T extends NamedEntity> Function<String, T> named(Supplier<T> make) {
        return name -> {
            T t = make.get();
            t.setName(name);
            return t;
        };
    }
}
